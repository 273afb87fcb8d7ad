// Entry of viewer.js (IIFE): defines window.ReaderstudyViewer.
import { version as cornerstoneVersion } from '@cornerstonejs/core';
import { buildColorbar, METHODS } from './overlay.js';
import { METHOD_LABELS, SIGNED_LABELS } from './colormaps.js';
import { cacheBytes, MARKS, mount } from './viewer.js';
import { buildToolbar } from './toolbar.js';
import { DEFAULT_PRESET, PRESET_ORDER, PRESETS } from './presets.js';
import { sortInstances } from './sort.js';

const ReaderstudyViewer = Object.freeze({
  mount,
  buildToolbar,
  buildColorbar,
  sortInstances,
  PRESETS,
  PRESET_ORDER,
  DEFAULT_PRESET,
  METHODS,
  METHOD_LABELS,
  SIGNED_LABELS,
  MARKS,
  cacheBytes,
  versions: Object.freeze({ viewer: '0.1.0', cornerstone: cornerstoneVersion }),
});

if (typeof window !== 'undefined') window.ReaderstudyViewer = ReaderstudyViewer;
