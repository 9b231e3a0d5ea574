"""Sources no shipped model trains, validates, calibrates or is selected on.

Fixed before any training on the wide corpus: two real-photo albums and four
fake sources of four families (Midjourney v8.1, gpt-image-1, Gemini "Nano
Banana", DALL-E 3). Every shipped recipe and the lab's benchmark read them
from here, so the model card's held-out figures stay independent.
"""

HELD_OUT_SOURCES = (
    "nirg_pics", "ironyard_phone",  # REAL: two photo albums (Canon/Sony/LG, iPhone 5s/6)
    "mj_explore_yukittm", "gptimage1_guide", "illus_nano_banana", "dalle3_farshed",  # FAKE
)
# The dev set's face sources (its manifest has no content tags).
FACE_SOURCES = ("darkhorrow/real-fake-faces-classification", "sklinderton/vit-real-vs-fake-faces")
