"""The seed study's grid (ResNet18/34/50 from scratch and fine-tuned), reproduced as configs."""
