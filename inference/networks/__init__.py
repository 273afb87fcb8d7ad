"""Networks of seed 000 (3D U-Net + CBAM segmenter, dual-channel classifier).

``ARCHITECTURES`` is the allow-list a manifest's ``architecture.name`` must come from: a
manifest names an architecture, it never carries code.
"""

ARCHITECTURES = ("cvst_unet_cbam_v1",)
