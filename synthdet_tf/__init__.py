"""synthdet: tell AI-generated (FAKE) images from real photographs (REAL).

Labels are REAL = 0 and FAKE = 1 everywhere.
"""

__version__ = "0.1.0"
