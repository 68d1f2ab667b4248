from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "joinedup.portfolio"
    label = "portfolio"
    verbose_name = "Portfolio office"
