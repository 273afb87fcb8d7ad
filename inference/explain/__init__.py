"""Explainers for the seed-000 classifier (Grad-CAM++, IG, SHAP, occlusion, CBAM maps).

Importing this package imports torch; the web tier should not import it.
"""

EXPLAINERS = ("gradcampp", "ig", "shap", "occlusion", "cbam")
