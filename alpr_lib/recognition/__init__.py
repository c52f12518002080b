"""Recognition: camera images to plate reads, offline on CPU.

``ocr.py`` holds the OCR engines behind one small protocol (the default, RapidOCR, ships its models
inside its wheel); ``detect.py`` and ``reader.py`` are the plate detector and plate reader trained for this
project (``train_detector.py``, ``train.py``); ``pipeline.py`` finds and reads plates in a whole image;
``evaluate.py`` measures
accuracy on a folder in the openalpr benchmark format. Recognition returns readings and never writes them:
the intake flow (``alpr_lib.ingest``) stores reads.
"""

from .ocr import Engine, FakeEngine, TextBox, default_engine
from .pipeline import PlateReading, read_plates

__all__ = ["Engine", "FakeEngine", "PlateReading", "TextBox", "default_engine", "read_plates"]
