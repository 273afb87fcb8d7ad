// Window presets (centre/width in HU). Hotkeys 1-4 follow PRESET_ORDER.
export const PRESETS = {
  hu0_200: { label: '0-200 HU', center: 100, width: 200 },
  brain: { label: 'Brain', center: 40, width: 80 },
  subdural: { label: 'Subdural', center: 80, width: 200 },
  bone: { label: 'Bone', center: 600, width: 2800 },
};
export const PRESET_ORDER = ['hu0_200', 'brain', 'subdural', 'bone'];
export const DEFAULT_PRESET = 'brain';

const ALIASES = {
  '0-200': 'hu0_200',
  '0-200hu': 'hu0_200',
  '0_200': 'hu0_200',
  seed000: 'hu0_200',
  'seed-000': 'hu0_200',
};

/** Resolve a preset name (case-insensitive, a few aliases) or return null. */
export function resolvePreset(name) {
  if (name == null) return null;
  const key = String(name).trim().toLowerCase().replace(/\s+/g, '');
  if (PRESETS[key]) return key;
  if (ALIASES[key]) return ALIASES[key];
  for (const [k, p] of Object.entries(PRESETS)) {
    if (p.label.toLowerCase().replace(/\s+/g, '') === key) return k;
  }
  return null;
}

/** {center,width} -> {lower, upper} (plain linear window). */
export function voiRangeFor(preset) {
  return { lower: preset.center - preset.width / 2, upper: preset.center + preset.width / 2 };
}

/** Name of the preset matching a voiRange (within 0.5 HU), else null. */
export function presetForRange(range) {
  if (!range) return null;
  for (const k of PRESET_ORDER) {
    const r = voiRangeFor(PRESETS[k]);
    if (Math.abs(r.lower - range.lower) < 0.5 && Math.abs(r.upper - range.upper) < 0.5) return k;
  }
  return null;
}
