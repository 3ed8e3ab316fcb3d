from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from chatplatform.openapi import CHATBOT_ERRORS, api_errors
from conversations.auth import INTEGRATION_AUTHENTICATION, INTEGRATION_PERMISSIONS
from conversations.selectors import chatbot_active_get
from tracking.extraction import EMAIL, OrderVariables, normalise_order_number, normalise_postcode
from tracking.orders import OrderStatus
from tracking.services import order_lookup_or_raise


class OrderLookupApi(APIView):
    """Look an order up for a shopper whose email or postcode must match the order's.

    "No such order" and "details do not match" give the same 404, and five failures per hour
    (per IP) lock further lookups with 429.
    """

    authentication_classes = INTEGRATION_AUTHENTICATION
    permission_classes = INTEGRATION_PERMISSIONS

    class InputSerializer(serializers.Serializer):
        order_number = serializers.CharField(max_length=64)
        email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        postcode = serializers.CharField(max_length=16, required=False, allow_blank=True)

        class Meta:
            ref_name = "OrderLookupRequest"

        def validate_email(self, value: str) -> str:
            if value and not EMAIL.fullmatch(value.strip()):
                raise serializers.ValidationError("Enter a valid email address.")
            return value.strip().lower()

        def validate(self, attrs):
            if not attrs.get("email") and not attrs.get("postcode"):
                raise serializers.ValidationError("Give the email or the postcode used for the order.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        number = serializers.CharField()
        status = serializers.ChoiceField(choices=[(status.value, status.value) for status in OrderStatus])
        raw_status = serializers.CharField()
        placed_at = serializers.DateTimeField(allow_null=True)
        items = serializers.ListField(child=serializers.DictField())
        shipments = serializers.ListField(child=serializers.DictField())

        class Meta:
            ref_name = "Order"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **api_errors(
                400,
                *CHATBOT_ERRORS,
                409,
                413,
                415,
                429,
                502,
                503,
                notes={
                    404: "Or no order matches the number with that email or postcode (`order_not_found`).",
                    409: "The chatbot has no enabled commerce integration (`no_commerce_integration`).",
                    429: "Too many failed lookups in the last hour (`too_many_attempts`).",
                    502: "The shop's system refused the request: staff must fix the integration "
                    "(`order_auth_failed`, `order_misconfigured`).",
                    503: "The shop's system failed or did not answer (`order_unavailable`, "
                    "`order_timeout`, `order_rate_limited`, `order_bad_response`).",
                },
            ),
        },
    )
    def post(self, request, chatbot_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = order_lookup_or_raise(
            chatbot=chatbot_active_get(chatbot_id=chatbot_id),
            variables=OrderVariables(
                order_number=normalise_order_number(data.validated_data["order_number"]),
                email=data.validated_data.get("email", ""),
                postcode=normalise_postcode(data.validated_data.get("postcode", "")),
            ),
            ip=request.META.get("REMOTE_ADDR", ""),
            channel="api",
        )
        return Response(order.facts())
