from django.apps import AppConfig


class RecordConfig(AppConfig):
    name = "joinedup.record"
    label = "record"
    verbose_name = "Shared care record"
