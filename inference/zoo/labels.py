"""Label names and display names the subtype models share (seeds 002 and 004)."""

SUBTYPES = ("iph", "ivh", "sah", "sdh", "edh")
ICH_LABELS = ("any", *SUBTYPES)
DISPLAY = {
    "any": "Any ICH",
    "iph": "Intraparenchymal",
    "ivh": "Intraventricular",
    "sah": "Subarachnoid",
    "sdh": "Subdural",
    "edh": "Epidural",
}
