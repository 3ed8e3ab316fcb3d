import re

import pytest

from conversations.chat.services import conversation_create
from conversations.flows import chatbot_flows_ensure
from conversations.models import ChatbotAPIKey, ChatbotSettings, ContextChunk, Message
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db

SECRET = "test_admin_0123456789_secret_zz"
CHANGE_URL = "/admin/conversations/chatbotsettings/{}/change/"
ANSWER_SETTINGS = {
    "router_mode": "local",
    "retrieval_top_k": "4",
    "retrieval_min_score": "0.1",
    "history_token_budget": "1500",
    "max_answer_tokens": "600",
}


def flow_formset(chatbot: ChatbotSettings | None) -> dict:
    """The management form of the flows inline, with each existing flow unchanged."""
    flows = list(chatbot.flows.order_by("name")) if chatbot else []
    data = {
        "flows-TOTAL_FORMS": str(len(flows)),
        "flows-INITIAL_FORMS": str(len(flows)),
        "flows-MIN_NUM_FORMS": "0",
        "flows-MAX_NUM_FORMS": "5",
    }
    for n, flow in enumerate(flows):
        data.update(
            {
                f"flows-{n}-id": str(flow.pk),
                f"flows-{n}-chatbot": str(chatbot.pk),
                f"flows-{n}-title": flow.title,
                f"flows-{n}-description": flow.description,
                f"flows-{n}-example_questions": "\n".join(flow.example_questions),
                f"flows-{n}-is_enabled": "on" if flow.is_enabled else "",
            }
        )
    return data


def form_data(chatbot: ChatbotSettings, **changes) -> dict:
    data = {
        "name": chatbot.name,
        "language": chatbot.language,
        "is_active": "on",
        "allowed_origins": "\n".join(chatbot.allowed_origins),
        "topics": "\n".join(chatbot.topics),
        "system_prompt": chatbot.system_prompt,
        "knowledgebase_index_endpoint": chatbot.knowledgebase_index_endpoint,
        "flow2_knowledgebase_index": chatbot.flow2_knowledgebase_index,
        "flow3_knowledgebase_index": "",
        "flow4_knowledgebase_index": "",
        "apiflow_knowledgebase_index": "",
        "new_pinecone_api_key": "",
        **ANSWER_SETTINGS,
        **flow_formset(chatbot),
    }
    data.update(changes)
    return data


def test_the_change_page_shows_a_masked_hint_and_never_the_secret(staff_client):
    chatbot = ChatbotFactory(pinecone_api_key=SECRET)

    html = staff_client.get(CHANGE_URL.format(chatbot.pk)).content.decode()

    assert SECRET not in html
    assert SECRET[4:-2] not in html
    assert "test••••••••zz" in html
    assert chatbot.knowledgebase_index_endpoint in html
    replace_input = re.search(r'<input[^>]*name="new_pinecone_api_key"[^>]*>', html).group(0)
    assert 'type="password"' in replace_input
    assert "value=" not in replace_input


def test_saving_without_a_new_key_keeps_the_stored_one(staff_client):
    chatbot = ChatbotFactory(pinecone_api_key=SECRET)
    chatbot_flows_ensure(chatbot=chatbot)

    response = staff_client.post(CHANGE_URL.format(chatbot.pk), form_data(chatbot, name="Renamed"))

    assert response.status_code == 302
    chatbot.refresh_from_db()
    assert chatbot.name == "Renamed"
    assert chatbot.pinecone_api_key == SECRET


def test_a_new_key_replaces_the_stored_one(staff_client):
    chatbot = ChatbotFactory(pinecone_api_key=SECRET)

    staff_client.post(
        CHANGE_URL.format(chatbot.pk), form_data(chatbot, new_pinecone_api_key="pcsk_new_key_42")
    )

    chatbot.refresh_from_db()
    assert chatbot.pinecone_api_key == "pcsk_new_key_42"


def test_clearing_the_key_switches_to_the_local_store(staff_client):
    chatbot = ChatbotFactory(pinecone_api_key=SECRET)

    staff_client.post(CHANGE_URL.format(chatbot.pk), form_data(chatbot, clear_pinecone_api_key="on"))

    chatbot.refresh_from_db()
    assert chatbot.pinecone_api_key == ""
    assert not chatbot.uses_pinecone


def test_an_invalid_index_name_is_refused_with_a_clear_message(staff_client):
    chatbot = ChatbotFactory()

    response = staff_client.post(
        CHANGE_URL.format(chatbot.pk), form_data(chatbot, flow2_knowledgebase_index="Has Spaces")
    )

    assert response.status_code == 200
    assert "Index names use 1-45 lowercase letters" in response.content.decode()


def test_staff_can_create_a_chatbot_with_a_key(staff_client):
    response = staff_client.post(
        "/admin/conversations/chatbotsettings/add/",
        {
            "chatbot_id": "new-shop",
            "name": "New shop",
            "language": "en",
            "is_active": "on",
            "allowed_origins": "https://new.example\n\nhttps://www.new.example",
            "topics": "Delivery\nReturns",
            "new_pinecone_api_key": "pcsk_created_key_7",
            **ANSWER_SETTINGS,
            **flow_formset(None),
        },
    )

    assert response.status_code == 302
    chatbot = ChatbotSettings.objects.get(chatbot_id="new-shop")
    assert chatbot.allowed_origins == ["https://new.example", "https://www.new.example"]
    assert chatbot.pinecone_api_key == "pcsk_created_key_7"
    assert sorted(chatbot.flows.values_list("name", flat=True)) == [
        "apiflow",
        "default",
        "flow2",
        "flow3",
        "flow4",
    ]


def test_the_changelist_searches_and_filters(staff_client):
    ChatbotFactory(chatbot_id="nordvin", name="Nordvin", language="da")
    ChatbotFactory(chatbot_id="bryggeriet", name="Bryggeriet", language="en", is_active=False)

    found = staff_client.get("/admin/conversations/chatbotsettings/?q=nord").content.decode()
    english = staff_client.get("/admin/conversations/chatbotsettings/?language=en").content.decode()

    assert "nordvin" in found
    assert "bryggeriet" not in found
    assert "bryggeriet" in english
    assert "nordvin" not in english


def test_creating_an_api_key_in_admin_shows_it_once_and_stores_a_hash(staff_client):
    chatbot = ChatbotFactory()

    response = staff_client.post(
        "/admin/conversations/chatbotapikey/add/", {"name": "ERP", "chatbot": chatbot.pk}, follow=True
    )

    html = response.content.decode()
    api_key = ChatbotAPIKey.objects.get(chatbot=chatbot)
    key = re.search(rf"({api_key.prefix}\.[A-Za-z0-9]+)", html).group(1)
    assert api_key.is_valid(key)
    listing = staff_client.get("/admin/conversations/chatbotapikey/").content.decode()
    assert key not in listing


def test_the_generic_library_key_model_is_not_in_admin(staff_client):
    assert staff_client.get("/admin/rest_framework_api_key/apikey/").status_code == 404


@pytest.fixture
def pinecone(pinecone_server, settings):
    settings.PINECONE_CONTROLLER_HOST = pinecone_server.controller_host
    settings.PINECONE_TIMEOUT_SECONDS = 2
    return pinecone_server


def run_pinecone_check(staff_client, *chatbots):
    response = staff_client.post(
        "/admin/conversations/chatbotsettings/",
        {"action": "check_pinecone_connection", "_selected_action": [bot.pk for bot in chatbots]},
        follow=True,
    )
    return [str(message) for message in response.context["messages"]]


def test_the_pinecone_check_reports_ready_indexes(staff_client, pinecone):
    pinecone.create_index("shop-ok-general", 8)
    pinecone.create_index("shop-ok-products", 8)
    chatbot = ChatbotFactory(chatbot_id="shop-ok", pinecone_api_key=pinecone.api_key)

    messages = run_pinecone_check(staff_client, chatbot)

    assert len(messages) == 1
    assert messages[0].startswith("shop-ok: ")
    assert "shop-ok-general: Ready" in messages[0]
    assert pinecone.api_key not in messages[0]


def test_the_pinecone_check_names_each_problem(staff_client, pinecone):
    pinecone.create_index("shop-x-general", 8)
    missing_index = ChatbotFactory(chatbot_id="shop-x", pinecone_api_key=pinecone.api_key)
    wrong_key = ChatbotFactory(chatbot_id="shop-y", pinecone_api_key="pcsk_wrong_key_000000")
    local = ChatbotFactory(chatbot_id="shop-z", pinecone_api_key="")

    messages = " | ".join(run_pinecone_check(staff_client, missing_index, wrong_key, local))

    assert "shop-x-products" in messages
    assert "does not exist" in messages or "not found" in messages
    assert "shop-y:" in messages
    assert "rejected" in messages
    assert "pcsk_wrong_key_000000" not in messages
    assert "shop-z: no Pinecone API key is set; this chatbot uses the local vector store" in messages


def test_staff_edit_a_flows_description_and_examples_inline(staff_client):
    chatbot = ChatbotFactory()
    chatbot_flows_ensure(chatbot=chatbot)
    data = form_data(chatbot)
    index = next(n for n in range(5) if data[f"flows-{n}-id"] == str(chatbot.flows.get(name="flow2").pk))
    data[f"flows-{index}-description"] = "Red and white wines."
    data[f"flows-{index}-example_questions"] = "Which red wine?\n\nWhich white wine?"

    response = staff_client.post(CHANGE_URL.format(chatbot.pk), data)

    assert response.status_code == 302
    flow2 = chatbot.flows.get(name="flow2")
    assert flow2.description == "Red and white wines."
    assert flow2.example_questions == ["Which red wine?", "Which white wine?"]


def context_chunk(chatbot: ChatbotSettings, source: str) -> ContextChunk:
    conversation, _ = conversation_create(chatbot=chatbot)
    answer = Message.objects.create(conversation=conversation, role=Message.Role.ASSISTANT, text="Yes.")
    return ContextChunk.objects.create(
        message=answer, rank=1, vector_id="v1", index_name="kb", source=source, score=0.8, text="..."
    )


def test_staff_read_the_context_chunks_filtered_by_chatbot(staff_client):
    wine, beer = ChatbotFactory(chatbot_id="wine"), ChatbotFactory(chatbot_id="beer")
    context_chunk(wine, "Shipping policy")
    context_chunk(beer, "Brewery tours")

    everything = staff_client.get("/admin/conversations/contextchunk/")
    wine_only = staff_client.get(
        f"/admin/conversations/contextchunk/?message__conversation__chatbot__id__exact={wine.pk}"
    )

    assert everything.status_code == 200
    assert "Shipping policy" in everything.content.decode()
    assert "Brewery tours" in everything.content.decode()
    assert "Shipping policy" in wine_only.content.decode()
    assert "Brewery tours" not in wine_only.content.decode()


def test_context_chunks_are_read_only_in_admin(staff_client):
    chunk = context_chunk(ChatbotFactory(chatbot_id="wine"), "Shipping policy")

    add = staff_client.get("/admin/conversations/contextchunk/add/")
    change = staff_client.post(f"/admin/conversations/contextchunk/{chunk.pk}/change/", {"source": "x"})

    assert add.status_code == 403
    assert change.status_code == 403
    chunk.refresh_from_db()
    assert chunk.source == "Shipping policy"
