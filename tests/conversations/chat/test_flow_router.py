import pytest

from chatplatform.ai.base import ProviderError
from conversations.chat.flow_router import _question_vector, flow_profiles, route_llm, route_local
from conversations.flows import FlowSpec, chatbot_flows_ensure
from conversations.prompts import DEFAULT_TEMPLATES
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db

SPECS = {
    "default": FlowSpec("Shipping", "Shipping, delivery and returns.", ("How much is shipping?",)),
    "flow2": FlowSpec(
        "Wines", "Red and white wines and storing wine.", ("Which red wine do you recommend?",)
    ),
}


@pytest.fixture
def profiles():
    chatbot = ChatbotFactory(knowledgebase_index_endpoint="a-general", flow2_knowledgebase_index="a-wines")
    flows = chatbot_flows_ensure(chatbot=chatbot, specs=SPECS)
    return flow_profiles(chatbot, flows)


def test_only_flows_with_an_index_are_candidates(profiles):
    assert {profile.name for profile in profiles} == {"default", "flow2"}


def test_the_local_router_picks_the_most_similar_flow_and_says_why(profiles):
    route = route_local("Which white wine do you recommend?", profiles)

    assert route.flow == "flow2"
    assert "Wines" in route.reason


@pytest.mark.parametrize(
    "question",
    [
        "How much is shipping?",
        "Which red wine do you recommend?",
        "Do you sell gift cards?",
        "Hvad koster fragt?",
    ],
)
def test_each_flow_scores_its_best_description_or_example(question):
    chatbot = ChatbotFactory(
        knowledgebase_index_endpoint="a-general",
        flow2_knowledgebase_index="a-wines",
        flow3_knowledgebase_index="x",
    )
    specs = {
        **SPECS,
        "flow3": FlowSpec(
            "Gifts", "Gift cards and wrapping.", ("Can you wrap it?", "Do you sell gift cards?")
        ),
    }
    profiles = flow_profiles(chatbot, chatbot_flows_ensure(chatbot=chatbot, specs=specs))
    query = _question_vector(question, profiles.matrix.shape[1])
    by_flow = {profile.name: float((profile.vectors @ query).max()) for profile in profiles}

    route = route_local(question, profiles)

    assert route.flow == max(by_flow, key=by_flow.__getitem__)
    assert f"{by_flow[route.flow]:.2f}" in route.reason


def test_without_candidates_the_default_flow_answers():
    assert route_local("anything", []).flow == "default"


class ScriptedProvider:
    def __init__(self, result):
        self.result = result

    async def complete_json(self, *, system, user, max_attempts=2):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def test_the_llm_router_uses_the_llms_choice(profiles):
    provider = ScriptedProvider({"flow": "default", "reason": "asks about delivery"})

    route = await route_llm(
        provider=provider, question="x", profiles=profiles, template=DEFAULT_TEMPLATES["router"]
    )

    assert route.flow == "default"
    assert route.reason == "LLM: asks about delivery"


@pytest.mark.parametrize(
    "result", [ProviderError("provider_timeout", "slow"), {"flow": "nonsense"}, {"no": "flow"}]
)
async def test_the_llm_router_falls_back_to_the_local_router(profiles, result):
    route = await route_llm(
        provider=ScriptedProvider(result),
        question="Which red wine do you recommend?",
        profiles=profiles,
        template=DEFAULT_TEMPLATES["router"],
    )

    assert route.flow == "flow2"
    assert "LLM router" in route.reason


@pytest.fixture
def openai_embeddings(settings, openai_server):
    from chatplatform.ai import reset_providers

    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = openai_server.api_key
    settings.OPENAI_BASE_URL = openai_server.base_url
    settings.OPENAI_MAX_RETRIES = 0
    settings.OPENAI_TIMEOUT_SECONDS = 2.0
    reset_providers()
    return openai_server


async def test_with_openai_the_router_compares_the_providers_embeddings(profiles, openai_embeddings):
    from chatplatform.ai import get_embedder
    from conversations.chat.flow_router import route_embedded
    from tests.fakes.openai_server import fake_embedding

    # The provider deems this question close to the wines flow, though it shares its words
    # with the shipping flow: the route must follow the embeddings, not hashed words.
    question = "How much is shipping for wine?"
    assert route_local(question, profiles).flow == "default"
    wines = SPECS["flow2"].examples[0]
    openai_embeddings.embedding_function = lambda text, dimension: fake_embedding(
        wines if text == question else text, dimension
    )

    route = await route_embedded(question=question, profiles=profiles, embedder=get_embedder())
    again = await route_embedded(question=question, profiles=profiles, embedder=get_embedder())

    assert route.flow == again.flow == "flow2"
    assert "by embeddings" in route.reason
    # The flows' texts once, the question once (remembered by text for retrieval too).
    assert [
        len(request.body["input"]) if isinstance(request.body["input"], list) else 1
        for request in openai_embeddings.requests
    ] == [4, 1]


async def test_when_embeddings_fail_the_router_falls_back_to_local_rules(profiles, openai_embeddings):
    from chatplatform.ai import get_embedder
    from conversations.chat.flow_router import route_embedded
    from tests.fakes.openai_server import Reply

    openai_embeddings.script(Reply(status=500), times=3)

    route = await route_embedded(
        question="Which red wine do you recommend?", profiles=profiles, embedder=get_embedder()
    )

    assert route.flow == "flow2"
    assert "embeddings failed" in route.reason


async def test_a_burst_of_questions_embeds_the_flows_once(profiles, openai_embeddings):
    import asyncio

    from chatplatform.ai import get_embedder
    from conversations.chat.flow_router import route_embedded

    questions = ["How much is shipping?", "Which red wine do you recommend?", "Do you ship to Sweden?"]

    routes = await asyncio.gather(
        *(route_embedded(question=q, profiles=profiles, embedder=get_embedder()) for q in questions)
    )

    flows_embedded = [r for r in openai_embeddings.requests if len(r.body["input"]) == 4]
    assert len(flows_embedded) == 1
    assert [route.flow for route in routes[:2]] == ["default", "flow2"]
