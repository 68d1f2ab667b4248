from django.apps import AppConfig


class DischargeConfig(AppConfig):
    name = "joinedup.discharge"
    label = "discharge"
    verbose_name = "Discharge to assess"

    def ready(self) -> None:
        from joinedup.discharge.measures import CODE, mean_delay_days
        from joinedup.portfolio.measures import register_measure

        register_measure(CODE, "Average discharge delay", "days", mean_delay_days)
