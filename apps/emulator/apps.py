from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    """The local OpenRouter: installed in development and test settings only, never in production.

    It is the other side of the wire, so it imports nothing from our apps.
    """

    name = "apps.emulator"
    label = "emulator"
    verbose_name = "OpenRouter emulator"
