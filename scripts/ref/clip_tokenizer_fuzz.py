# Writes test/fixtures/clip/tokenizer-fuzz.json: random strings (letters of many scripts, digits and
# other numerics, punctuation, odd whitespace, HTML entities, contractions, special-token literals)
# and their ids from upstream's SimpleTokenizer.encode. Needs a checkout of openai/CLIP (its clip/
# folder is imported from there, not copied) and python3-regex; ftfy.fix_text is stubbed as the
# identity, as in ../shared/golden/clip.
#   /usr/bin/python3 scripts/ref/clip_tokenizer_fuzz.py /path/to/CLIP/clip [OUT]
import json, os, random, sys, tempfile, types
clip_dir = sys.argv[1]
out_file = sys.argv[2] if len(sys.argv) > 2 else 'test/fixtures/clip/tokenizer-fuzz.json'
sys.modules['ftfy'] = types.SimpleNamespace(fix_text=lambda t: t)
sys.path.insert(0, clip_dir)
import simple_tokenizer
tok = simple_tokenizer.SimpleTokenizer(os.path.join(clip_dir, 'bpe_simple_vocab_16e6.txt.gz'))
random.seed(1)
pool = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      \t\n'\".,;:!?-_/@#$%^&*()[]{}<>|~`+=") \
    + list("éüßøåçñÀÉÎÕÜ中文日本語한국어Привет Ελληνικά مرحبا שלום²½①٣🙂🚀😀\u00a0\u2003\u3000\x85\x1c\u200b\ufeffİıſǅﬁ\u0301\u0927\u093f")
ents = ['&amp;', '&lt;', '&gt;', '&quot;', '&#39;', '&#x263A;', '&nbsp;', '&copy', '&amp;amp;', '&notin;', '&#128;', '&hellip;',
        "'s", "'t", "'re", "'ll", '<|endoftext|>', '<|startoftext|>', "'S", "'LL"]
texts = [''.join(random.choice(pool) if random.random() > 0.1 else random.choice(ents) for _ in range(random.randint(0, 40))) for _ in range(400)]
json.dump({'texts': texts, 'ids': [tok.encode(t) for t in texts]}, open(out_file, 'w'), ensure_ascii=False, separators=(',', ':'))
