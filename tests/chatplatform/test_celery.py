from chatplatform.celery import app


def test_a_worker_knows_every_task_the_platform_sends():
    app.loader.import_default_modules()

    assert {
        "conversations.chat_tasks.answers_record",
        "conversations.knowledge.tasks.ingest_document",
    } <= set(app.tasks)


def test_tasks_go_to_their_queues():
    router = app.amqp.router

    assert router.route({}, "conversations.chat_tasks.answers_record")["queue"].name == "chat"
    assert router.route({}, "conversations.knowledge.tasks.ingest_document")["queue"].name == "ingestion"
    assert router.route({}, "anything.else")["queue"].name == "maintenance"
    assert router.route({}, "chatplatform.jobs.tasks.jobs_run")["queue"].name == "jobs"
    assert router.route({}, "chatplatform.jobs.tasks.jobs_sweep")["queue"].name == "maintenance"


def test_tasks_are_json_acked_late_and_time_limited():
    conf = app.conf

    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert {queue.name for queue in conf.task_queues} == {"chat", "ingestion", "maintenance", "jobs"}
