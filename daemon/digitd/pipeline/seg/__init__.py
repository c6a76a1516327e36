"""Steps of page segmentation, one module each; ``digitd.pipeline.segment`` runs them."""
