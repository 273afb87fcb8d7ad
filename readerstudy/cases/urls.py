from django.urls import path

from . import annotator_views, clinical_views, lesion_views, truth_views, views

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("labels/", truth_views.labels_upload, name="case-labels-upload"),
    path("clinical/", clinical_views.clinical_list, name="case-clinical"),
    path("clinical/upload/", clinical_views.clinical_upload, name="case-clinical-upload"),
    path("clinical/variables/", clinical_views.variable_create, name="case-clinical-variable"),
    path("annotators/", annotator_views.annotator_mask_list, name="case-annotator-masks"),
    path(
        "annotators/upload/",
        annotator_views.annotator_mask_upload,
        name="case-annotator-masks-upload",
    ),
    path("lesions/", lesion_views.lesions_page, name="case-lesions"),
    path("lesions/csv/", lesion_views.lesions_csv, name="case-lesions-csv"),
    path("lesions/masks/", lesion_views.lesions_from_masks, name="case-lesions-masks"),
    path("annotators/dice.csv", annotator_views.annotator_dice_csv, name="case-annotator-dice"),
    path("<str:code>/", truth_views.case_detail, name="case-detail"),
    path("<str:code>/clinical/", clinical_views.case_clinical, name="case-clinical-detail"),
    path("<str:code>/thumbnail.png", views.thumbnail, name="case-thumbnail"),
]
