"""Stems, the Danish-English glossary, BM25 coverage and the reply language."""

from chatplatform.ai.bm25 import LexicalIndex, head_of
from chatplatform.ai.reply_language import conversation_language, reply_language
from chatplatform.ai.stems import query_groups, term


def test_inflections_in_danish_and_english_meet():
    assert term("flasker") == term("flaske")
    assert term("orders") == term("ordering")
    assert term("bestillinger") == term("bestilling")
    assert term("returnere") == term("returned")


def test_a_danish_question_word_also_stands_for_its_english_counterparts():
    groups = dict(query_groups("Hvor længe gælder et gavekort?"))

    assert {term("gift"), term("card")} <= set(groups["gavekort"])


def test_bm25_finds_the_passage_with_the_rare_words_and_splits_unknown_compounds():
    passages = [
        "Chocolate desserts: Primitivo di Manduria or port.",
        "Fish and shellfish: Chablis or Alvarinho.",
        "Serve sparkling wine at 6-8 degrees.",
    ]
    index = LexicalIndex(passages)

    hits = index.search("Hvad passer til en chokoladedessert?", top_k=3)

    assert hits[0].row == 0
    assert 0 < hits[0].coverage <= 1


def test_a_word_no_passage_holds_lowers_the_coverage():
    index = LexicalIndex(["We hold wine tastings on Thursdays.", "Store bottles lying down."])

    (about_wine,) = index.search("wine tastings", top_k=1)
    (with_cigars,) = index.search("wine tastings cigars", top_k=1)

    assert about_wine.coverage == 1.0
    assert with_cigars.coverage < about_wine.coverage


def test_the_subject_of_a_list_item_is_before_its_colon_but_not_a_times():
    assert head_of("Roast lamb, beef steaks: Bordeaux or Barolo.") == "Roast lamb, beef steaks"
    assert head_of("Express delivery before 17:00 the same day.") == ""


def test_replies_follow_the_question_language_and_fall_back_to_the_chatbots():
    assert reply_language("Do you sell gift cards?", "da") == "en"
    assert reply_language("Sælger I gavekort?", "en") == "da"
    assert reply_language("NV-100234", "da") == "da"
    assert conversation_language(["Where is my order?", "NV-100234"], "da") == "en"
