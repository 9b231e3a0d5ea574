"""`synthdet-app`: a web page (Gradio) for people: verdict, where the evidence is, provenance, file facts."""
