"""Learner summaries: which key concepts they cover, and what the session keeps of it."""

from tutor.learning.concept_coverage import KeyConcept, concept_coverage, normalised_words, stem

CONCEPTS = [
    KeyConcept("Chlorophyll", "The green pigment that absorbs light energy in plants."),
    KeyConcept("Calvin cycle", "Reactions that fix carbon dioxide into sugar using ATP and NADPH."),
    KeyConcept("Stomata", "Small pores in leaves through which gases are exchanged."),
    KeyConcept(
        "Light-dependent reactions", "Reactions in the thylakoid membranes that produce ATP and NADPH."
    ),
]


def test_word_forms_share_one_stem():
    assert len({stem(word) for word in ("produce", "produces", "produced", "producing")}) == 1
    assert stem("reactions") == stem("reaction")
    assert stem("pores") == stem("pore")
    assert stem("process") == "process"
    assert stem("analysis") == "analysis"
    assert normalised_words("The Stomata of Leaves, naïvely") == ["stomata", "leav", "naiv"]


def test_a_concept_is_covered_by_its_term_or_by_most_of_its_definition():
    summary = (
        "Plants capture light with chlorophyll. In the thylakoid membrane, reactions make ATP and NADPH, "
        "which are then used to fix carbon dioxide into sugars."
    )

    coverage = concept_coverage(summary, CONCEPTS)
    matches = {match.term: match for match in coverage.matches}

    assert matches["Chlorophyll"].via == "term"
    assert matches["Calvin cycle"].via == "definition"
    assert matches["Calvin cycle"].definition_overlap >= 0.6
    assert matches["Light-dependent reactions"].via == "definition"
    assert coverage.covered == ["Chlorophyll", "Calvin cycle", "Light-dependent reactions"]
    assert coverage.missed == ["Stomata"]
    assert coverage.share == 0.75


def test_part_of_a_term_with_little_of_its_definition_is_missed():
    coverage = concept_coverage("Light falls on the leaf and reactions start.", CONCEPTS)
    [match] = [match for match in coverage.matches if match.term == "Light-dependent reactions"]

    assert match.covered is False
    assert match.term_overlap == 0.6667


def test_a_term_written_in_another_form_still_counts():
    coverage = concept_coverage("Light dependent reaction happens first.", CONCEPTS)

    assert coverage.covered == ["Light-dependent reactions"]


def test_no_concepts_means_no_share():
    assert concept_coverage("anything", []).share is None
    assert concept_coverage("", CONCEPTS).covered == []
