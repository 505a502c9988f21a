"""ganlib: shared code for the GAN lecture notes."""
