"""End-to-end workflows built from the library: site adaptation, demos, studies."""
