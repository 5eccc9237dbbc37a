// The public backbone files the network metrics read, under the names they are published with.
import type { WeightFile } from './registry.js';

export const ALEXNET: WeightFile = {
  file: 'alexnet-owt-7be5be79.pth',
  url: 'https://download.pytorch.org/models/alexnet-owt-7be5be79.pth',
  what: 'torchvision AlexNet ImageNet weights',
};

export const VGG16: WeightFile = {
  file: 'vgg16-397923af.pth',
  url: 'https://download.pytorch.org/models/vgg16-397923af.pth',
  what: 'torchvision VGG16 ImageNet weights',
};

export const PT_INCEPTION: WeightFile = {
  file: 'pt_inception-2015-12-05-6726825d.pth',
  url: 'https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth',
  what: "pytorch-fid's port of TensorFlow's FID Inception-v3",
};
