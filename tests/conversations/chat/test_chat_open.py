from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from chatplatform.errors import ApplicationError
from conversations.chat import chatbot_configs
from conversations.chat.models import Conversation, Message
from conversations.chat.selectors import chat_open
from conversations.chat.services import conversation_create, conversation_save
from conversations.flows import chatbot_flows_ensure
from conversations.models import ChatbotSettings
from tests.conversations.factories import ChatbotFactory
from tests.tracking.factories import CommerceIntegrationFactory

pytestmark = pytest.mark.django_db


def test_a_new_visitor_costs_no_query_once_the_chatbot_was_read(django_assert_num_queries, settings):
    settings.CHATBOT_CONFIG_RECHECK_SECONDS = 60  # no version check in between, however slow the machine
    chatbot = ChatbotFactory(chatbot_id="nordvin", allowed_origins=["https://nordvin.dk"])
    chatbot_flows_ensure(chatbot=chatbot)
    CommerceIntegrationFactory(chatbot=chatbot)
    chat_open(chatbot_id="nordvin", token="", origin="https://nordvin.dk", host="chat.example")

    with django_assert_num_queries(0):
        opening = chat_open(chatbot_id="nordvin", token="", origin="https://nordvin.dk", host="chat.example")

    state = opening.state
    assert state.chatbot.pk == chatbot.pk
    assert sorted(flow.name for flow in state.flows) == ["apiflow", "default", "flow2", "flow3", "flow4"]
    assert state.order_tracking is True
    assert state.history == []
    assert state.answers_by_client_id == {}
    assert state.last_flow == ""
    assert opening.token_error is None


def test_a_conversation_is_stored_at_its_first_message_not_on_connect():
    chatbot = ChatbotFactory(chatbot_id="nordvin", allowed_origins=["https://nordvin.dk"])
    opening = chat_open(chatbot_id="nordvin", token="", origin="https://nordvin.dk", host="chat.example")
    assert not Conversation.objects.exists()
    reconnected = chat_open(chatbot_id="nordvin", token=opening.token, origin=None, host=None)
    assert reconnected.token_error is None
    assert reconnected.token == opening.token
    assert reconnected.state.conversation_id == opening.state.conversation_id

    conversation_save(state=opening.state)
    conversation_save(state=reconnected.state)  # the same token on two connections: one row

    conversation = Conversation.objects.get()
    assert conversation.id == opening.state.conversation_id
    assert conversation.chatbot == chatbot
    assert conversation.origin == "https://nordvin.dk"
    assert opening.token not in conversation.token_hash
    resumed = chat_open(chatbot_id="nordvin", token=opening.token, origin=None, host=None)
    assert resumed.state.conversation_id == conversation.id
    assert resumed.state.unsaved is None


def test_a_token_announced_for_one_chatbot_is_refused_by_another():
    ChatbotFactory(chatbot_id="nordvin")
    ChatbotFactory(chatbot_id="other")
    opening = chat_open(chatbot_id="nordvin", token="", origin=None, host=None)

    elsewhere = chat_open(chatbot_id="other", token=opening.token, origin=None, host=None)
    changed = opening.token[:-1] + ("B" if opening.token.endswith("A") else "A")
    tampered = chat_open(chatbot_id="nordvin", token=changed, origin=None, host=None)

    assert elsewhere.token_error.code == "invalid_conversation_token"
    assert elsewhere.state.conversation_id != opening.state.conversation_id
    assert tampered.token_error.code == "invalid_conversation_token"


@pytest.mark.parametrize(
    "edit",
    [
        lambda chatbot: _with(chatbot, allowed_origins=["https://nordvin.dk"]).save(),
        lambda chatbot: _with(chatbot.flows.get(name="default"), is_enabled=False).save(),
        lambda chatbot: CommerceIntegrationFactory(chatbot=chatbot),
    ],
    ids=["chatbot", "flow", "commerce integration"],
)
def test_an_edit_saved_in_this_process_reaches_the_next_connection_at_once(
    edit, django_capture_on_commit_callbacks
):
    chatbot = ChatbotFactory(chatbot_id="nordvin")
    chatbot_flows_ensure(chatbot=chatbot)
    before = chat_open(chatbot_id="nordvin", token="", origin=None, host=None).state

    with django_capture_on_commit_callbacks(execute=True):
        edit(chatbot)

    after = chat_open(chatbot_id="nordvin", token="", origin=None, host=None).state
    assert (after.chatbot.allowed_origins, _enabled(after.flows), after.order_tracking) != (
        before.chatbot.allowed_origins,
        _enabled(before.flows),
        before.order_tracking,
    )


def test_an_edit_saved_in_another_process_reaches_new_connections_after_the_recheck_interval(settings):
    settings.CHATBOT_CONFIG_RECHECK_SECONDS = 60
    chatbot = ChatbotFactory(chatbot_id="nordvin")
    chat_open(chatbot_id="nordvin", token="", origin=None, host=None)
    # Another process: the row changes and the version in the shared cache with it, while this
    # process's signal handlers see nothing.
    ChatbotSettings.objects.filter(pk=chatbot.pk).update(
        allowed_origins=["https://nordvin.dk"], updated_at=timezone.now() + timedelta(seconds=1)
    )
    cache.set("chatbot-configs:version", "changed elsewhere", timeout=None)

    assert (
        chat_open(chatbot_id="nordvin", token="", origin=None, host=None).state.chatbot.allowed_origins == []
    )
    settings.CHATBOT_CONFIG_RECHECK_SECONDS = 0
    with pytest.raises(ApplicationError) as refused:
        chat_open(chatbot_id="nordvin", token="", origin="https://evil.example", host="chat.example")
    assert refused.value.code == "origin_not_allowed"


def test_a_deactivated_chatbot_takes_no_new_connections(django_capture_on_commit_callbacks):
    chatbot = ChatbotFactory(chatbot_id="nordvin")
    chat_open(chatbot_id="nordvin", token="", origin=None, host=None)

    with django_capture_on_commit_callbacks(execute=True):
        chatbot.is_active = False
        chatbot.save()

    with pytest.raises(ApplicationError) as refused:
        chat_open(chatbot_id="nordvin", token="", origin=None, host=None)
    assert refused.value.code == "chatbot_not_found"


def _with(instance, **fields):
    for name, value in fields.items():
        setattr(instance, name, value)
    return instance


def _enabled(flows):
    return sorted(flow.name for flow in flows if flow.is_enabled)


def test_order_tracking_is_off_without_an_enabled_integration():
    chatbot = ChatbotFactory()
    CommerceIntegrationFactory(chatbot=chatbot, is_enabled=False)

    opening = chat_open(chatbot_id=chatbot.chatbot_id, token="", origin=None, host=None)

    assert opening.state.order_tracking is False


def test_a_known_token_resumes_the_conversation_with_its_history_and_answered_client_ids():
    chatbot = ChatbotFactory()
    conversation, token = conversation_create(chatbot=chatbot)
    asked = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, text="Fragt til Bornholm?", client_id="c-1"
    )
    answer = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        text="Fragten koster 95 kr.",
        flow="flow2",
        reply_to=asked,
    )

    opening = chat_open(chatbot_id=chatbot.chatbot_id, token=token, origin=None, host=None)

    assert opening.token == token
    assert opening.token_error is None
    assert opening.state.conversation_id == conversation.id
    assert [entry["content"] for entry in opening.state.history] == [
        "Fragt til Bornholm?",
        "Fragten koster 95 kr.",
    ]
    assert opening.state.answers_by_client_id == {"c-1": str(answer.id)}
    assert opening.state.last_flow == "flow2"


def test_an_unknown_token_starts_a_new_conversation_and_says_why():
    chatbot = ChatbotFactory()
    _, foreign_token = conversation_create(chatbot=ChatbotFactory())

    opening = chat_open(chatbot_id=chatbot.chatbot_id, token=foreign_token, origin=None, host=None)

    assert opening.token_error is not None
    assert opening.token_error.code == "invalid_conversation_token"
    assert opening.token != foreign_token
    assert opening.state.chatbot == chatbot


@pytest.mark.parametrize(
    ("chatbot_id", "origin", "code"),
    [
        ("nowhere", "https://nordvin.dk", "chatbot_not_found"),
        ("inactive", "https://nordvin.dk", "chatbot_not_found"),
        ("nordvin", "https://evil.example", "origin_not_allowed"),
    ],
)
def test_a_refused_connection_starts_no_conversation(chatbot_id, origin, code):
    ChatbotFactory(chatbot_id="nordvin", allowed_origins=["https://nordvin.dk"])
    ChatbotFactory(chatbot_id="inactive", is_active=False)

    with pytest.raises(ApplicationError) as raised:
        chat_open(chatbot_id=chatbot_id, token="", origin=origin, host="chat.example")

    assert raised.value.code == code
    assert not Conversation.objects.exists()


def test_flows_created_in_bulk_reach_the_next_connection(django_capture_on_commit_callbacks):
    chatbot = ChatbotFactory(chatbot_id="nordvin")
    assert chat_open(chatbot_id="nordvin", token="", origin=None, host=None).state.flows == []

    with django_capture_on_commit_callbacks(execute=True):
        chatbot_flows_ensure(chatbot=chatbot)

    assert len(chat_open(chatbot_id="nordvin", token="", origin=None, host=None).state.flows) == 5


def test_connections_share_the_routers_profiles_until_the_flows_change(django_capture_on_commit_callbacks):
    chatbot = ChatbotFactory(chatbot_id="nordvin", flow2_knowledgebase_index="nordvin-wines")
    chatbot_flows_ensure(chatbot=chatbot)
    first = chat_open(chatbot_id="nordvin", token="", origin=None, host=None)
    resumed = chat_open(chatbot_id="nordvin", token=first.token, origin=None, host=None)
    first, second = first.state, resumed.state

    assert {profile.name for profile in first.route_profiles} == {"default", "flow2"}
    assert second.route_profiles is first.route_profiles

    with django_capture_on_commit_callbacks(execute=True):
        _with(chatbot.flows.get(name="flow2"), is_enabled=False).save()

    third = chat_open(chatbot_id="nordvin", token="", origin=None, host=None).state
    assert {profile.name for profile in third.route_profiles} == {"default"}


def test_a_process_keeps_the_chatbots_connected_to_most_recently(
    monkeypatch, django_assert_num_queries, settings
):
    settings.CHATBOT_CONFIG_RECHECK_SECONDS = 60
    monkeypatch.setattr(chatbot_configs, "MAX_KEPT", 2)
    for chatbot_id in ("a", "b", "c"):
        ChatbotFactory(chatbot_id=chatbot_id)
    for chatbot_id in ("a", "b", "a", "c"):
        chat_open(chatbot_id=chatbot_id, token="", origin=None, host=None)

    with django_assert_num_queries(0):  # "a" is still kept
        chat_open(chatbot_id="a", token="", origin=None, host=None)
    with django_assert_num_queries(2):  # "b" was forgotten: the chatbot and its flows are read again
        chat_open(chatbot_id="b", token="", origin=None, host=None)
