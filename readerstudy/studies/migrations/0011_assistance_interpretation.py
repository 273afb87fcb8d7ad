from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("studies", "0010_consent_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="assistanceconfig",
            name="show_nomogram",
            field=models.BooleanField(
                default=False,
                help_text="the model's nomogram with this case's points, when it has one",
            ),
        ),
        migrations.AddField(
            model_name="assistanceconfig",
            name="show_feature_importance",
            field=models.BooleanField(
                default=False, help_text="the model's selected features and their importances"
            ),
        ),
        migrations.AddField(
            model_name="assistanceconfig",
            name="show_clinical",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="clinical variables shown to readers (catalogue names); empty = none",
            ),
        ),
    ]
