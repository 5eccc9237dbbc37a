// Every module here registers the kinds of one golden set (or part of one).
import './checkpoints.js';
