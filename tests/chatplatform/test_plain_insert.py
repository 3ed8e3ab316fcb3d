import pytest

from chatplatform.plain_insert import insert_rows
from conversations.models import Conversation


@pytest.mark.parametrize("constant", ["it's", "100%", 1.5, True, None])
def test_a_constant_that_is_not_a_plain_string_or_integer_is_refused(constant):
    with pytest.raises((TypeError, ValueError)):
        insert_rows(Conversation, ("id",), [("x",)], constants={"origin": constant})


@pytest.mark.django_db
def test_no_rows_is_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_rows(Conversation, ("id",), [])
