"""The Polku services. Each subpackage is independent; only the composition root joins them."""
