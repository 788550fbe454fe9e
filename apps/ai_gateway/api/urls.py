from django.urls import path

from . import openai_compat, views

urlpatterns = [
    path("ai/chat/", views.ChatView.as_view(), name="ai-chat"),
    path("ai/classify-sms/", views.ClassifySmsView.as_view(), name="ai-classify-sms"),
    path("ai/analyze-reviews/", views.AnalyzeReviewsView.as_view(), name="ai-analyze-reviews"),
    path("ai/generate-message/", views.GenerateMessageView.as_view(), name="ai-generate-message"),
    path("ai/enrich-lead/", views.EnrichLeadView.as_view(), name="ai-enrich-lead"),
    path("ai/prompt/", views.PromptView.as_view(), name="ai-prompt"),
    path("v1/models", openai_compat.ModelsView.as_view(), name="openai-models"),
    path("v1/chat/completions", openai_compat.ChatCompletionsView.as_view(), name="openai-chat-completions"),
]
