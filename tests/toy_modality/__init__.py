"""A third modality, written only here: short synthetic signals (think one ECG lead), read
from ``*.signals`` files. It shows that a modality is one folder plus one registration line;
the test beside it runs the CLI's train-base, adapt, evaluate and study on it, with
``MEDADAPT_MODALITIES=tests.toy_modality`` so that medadapt imports it."""

from medadapt.modalities import register
from tests.toy_modality.modality import SignalModality

register(SignalModality())
