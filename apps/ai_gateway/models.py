"""Chat history for the assistant, and idempotency records for partner retries."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import UserOwnedModel


class ChatConversation(UserOwnedModel):
    title = models.CharField(_("title"), max_length=200, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("chat conversation")
        verbose_name_plural = _("chat conversations")
        indexes = [models.Index(fields=["user", "updated_at"])]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class ChatRole(models.TextChoices):
    USER = "user", _("You")
    ASSISTANT = "assistant", _("Assistant")


class ChatMessage(UserOwnedModel):
    conversation = models.ForeignKey(ChatConversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=12, choices=ChatRole.choices)
    content = models.TextField()
    usage_log = models.ForeignKey(
        "usage.AIUsageLog", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class IdempotencyRecord(UserOwnedModel):
    """The outcome of a partner request sent with an ``Idempotency-Key``, replayed on retries."""

    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    usage_log = models.ForeignKey(
        "usage.AIUsageLog", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'in progress'})"
