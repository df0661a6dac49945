"""The behaviour every ``ChatModel`` must have, as a pytest base class.

An adapter's test module subclasses ``ChatModelContract`` and says how to make its model::

    class TestMyModel(ChatModelContract):
        @pytest.fixture
        def model(self) -> ChatModel:
            return MyModel(...)

Every test here then runs unchanged: a reply with usage, streaming that hands on exactly the
reply's text with a time to first token, and the port's attributes. Replies are kept short
(``max_tokens=16``) so the contract is cheap against a real model.
"""

from __future__ import annotations

from docsage.ports.chat import ChatModel, ChatRequest, Message

REQUEST = ChatRequest(messages=(Message(role="user", content="Say hello."),), max_tokens=16)


class ChatModelContract:
    """Subclass as ``Test<YourModel>`` and provide a ``model`` fixture."""

    def test_it_is_a_chat_model(self, model: ChatModel) -> None:
        assert isinstance(model, ChatModel)
        assert ":" in model.name and model.context_window > 0

    def test_a_reply_carries_usage(self, model: ChatModel) -> None:
        reply = model.complete(REQUEST)
        assert reply.text.strip()
        assert reply.model == model.name
        assert reply.input_tokens > 0 and reply.output_tokens > 0
        assert reply.tool_calls == ()

    def test_streaming_hands_on_exactly_the_reply(self, model: ChatModel) -> None:
        pieces: list[str] = []
        reply = model.complete(REQUEST, pieces.append)
        assert pieces and "".join(pieces) == reply.text
        assert reply.output_tokens > 0

    def test_a_stream_measures_time_to_first_token(self, model: ChatModel) -> None:
        reply = model.complete(REQUEST, lambda piece: None)
        assert reply.first_token_ms >= 0.0 and reply.ms >= reply.first_token_ms
