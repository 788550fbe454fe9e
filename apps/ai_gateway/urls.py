from django.urls import path

from . import views

app_name = "ai_gateway"

urlpatterns = [
    path("", views.index, name="index"),
    path("chat/", views.chat, name="chat"),
    path("chat/<int:conversation_id>/", views.chat, name="chat_conversation"),
    path("chat/send/", views.chat_stream, name="chat_send"),
    path("<slug:slug>/", views.feature, name="feature"),
]
