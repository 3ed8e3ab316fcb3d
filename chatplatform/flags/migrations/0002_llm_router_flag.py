import uuid

from django.db import migrations

LLM_ROUTER = "llm_router"


def llm_router_flag_create(apps, schema_editor):
    Flag = apps.get_model("flags", "Flag")
    Revision = apps.get_model("runtime_config", "Revision")
    Flag.objects.get_or_create(
        key=LLM_ROUTER,
        defaults={
            "description": "Route with the LLM (falling back to the local router) for chatbots whose "
            "router mode is local. Router mode LLM always uses it.",
            "enabled": False,
            "percentage": 0,
            "subject_kinds": ["chatbot"],
        },
    )
    # Running processes learn of flags through the counter, as on every other change.
    revision, _ = Revision.objects.get_or_create(scope="flags")
    revision.number += 1
    revision.token = uuid.uuid4().hex
    revision.save()


def llm_router_flag_delete(apps, schema_editor):
    apps.get_model("flags", "Flag").objects.filter(key=LLM_ROUTER).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("flags", "0001_initial"),
        ("runtime_config", "0001_initial"),
    ]

    operations = [migrations.RunPython(llm_router_flag_create, llm_router_flag_delete)]
