from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "joinedup.workforce"
    label = "workforce"
    verbose_name = "Workforce"

    def ready(self) -> None:
        from joinedup.portfolio.measures import register_measure
        from joinedup.workforce.measures import CODE, vacancy_rate_percent

        register_measure(CODE, "Vacancy rate across the partnership", "%", vacancy_rate_percent)
