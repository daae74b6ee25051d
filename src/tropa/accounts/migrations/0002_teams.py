from django.db import migrations

TEAM_KINDS = ["coordinators", "legal", "psychological", "evacuation", "documents", "visa"]


def create_teams(apps, schema_editor):
    team = apps.get_model("accounts", "Team")
    for kind in TEAM_KINDS:
        team.objects.get_or_create(kind=kind)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_teams, migrations.RunPython.noop)]
