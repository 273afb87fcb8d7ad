// Series metadata (DICOM JSON, PS3.18 F.2) -> instances sorted along the
// slice normal.
//
// Order: ascending position along the slice normal n = rowCosines x colCosines,
// with n flipped if needed so that its dominant component is positive. For
// axial CT this puts the most inferior slice first (index 0), which is also
// frame 0 of the overlay contract. Ties and instances without geometry fall
// back to InstanceNumber, then SOPInstanceUID.

export const TAG = {
  SOPInstanceUID: '00080018',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  NumberOfFrames: '00280008',
  SeriesInstanceUID: '0020000E',
  Rows: '00280010',
  Columns: '00280011',
};

export function tagValues(instance, tag) {
  const el = instance && instance[tag];
  return el && Array.isArray(el.Value) ? el.Value : undefined;
}

export function tagValue(instance, tag) {
  const v = tagValues(instance, tag);
  return v ? v[0] : undefined;
}

function numbers(instance, tag, n) {
  const v = tagValues(instance, tag);
  if (!v || v.length < n) return null;
  const out = v.slice(0, n).map(Number);
  return out.every(Number.isFinite) ? out : null;
}

export function sliceNormal(iop) {
  const [r0, r1, r2, c0, c1, c2] = iop;
  const n = [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0];
  let k = 0;
  for (let i = 1; i < 3; i++) if (Math.abs(n[i]) > Math.abs(n[k])) k = i;
  return n[k] < 0 ? n.map((x) => -x) : n;
}

/**
 * Sort DICOM JSON instances.
 * Returns [{sopInstanceUID, instance, position (mm along the normal or null),
 * instanceNumber, frame}] where multi-frame instances are expanded to one
 * entry per frame (frames keep their stored order).
 */
export function sortInstances(instances) {
  if (!Array.isArray(instances) || instances.length === 0) {
    throw new Error('series metadata is empty');
  }
  const withIop = instances.find((i) => numbers(i, TAG.ImageOrientationPatient, 6));
  const normal = withIop ? sliceNormal(numbers(withIop, TAG.ImageOrientationPatient, 6)) : null;
  const rows = instances.map((instance, k) => {
    const sop = tagValue(instance, TAG.SOPInstanceUID);
    if (!sop) throw new Error(`instance ${k} has no SOPInstanceUID`);
    const ipp = numbers(instance, TAG.ImagePositionPatient, 3);
    const position = normal && ipp ? ipp[0] * normal[0] + ipp[1] * normal[1] + ipp[2] * normal[2] : null;
    const inum = Number(tagValue(instance, TAG.InstanceNumber));
    return { sopInstanceUID: String(sop), instance, position, instanceNumber: Number.isFinite(inum) ? inum : null };
  });
  const allPositions = rows.every((r) => r.position !== null);
  rows.sort((a, b) => {
    if (allPositions && a.position !== b.position) return a.position - b.position;
    if (a.instanceNumber !== null && b.instanceNumber !== null && a.instanceNumber !== b.instanceNumber) {
      return a.instanceNumber - b.instanceNumber;
    }
    return a.sopInstanceUID < b.sopInstanceUID ? -1 : a.sopInstanceUID > b.sopInstanceUID ? 1 : 0;
  });
  const out = [];
  for (const r of rows) {
    const nFrames = Math.max(1, Number(tagValue(r.instance, TAG.NumberOfFrames)) || 1);
    for (let f = 1; f <= nFrames; f++) out.push({ ...r, frame: f, position: allPositions ? r.position : null });
  }
  return out;
}
