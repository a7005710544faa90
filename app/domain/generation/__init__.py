"""The live generator's parts, one job each; `app.domain.generator.StreamGenerator` joins them."""
