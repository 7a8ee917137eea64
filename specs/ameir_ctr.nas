# AMEIR on non-sequential fields (AMEIR-C of Table 3): Step 2 explores Hadamard interactions of the
# field embeddings, Step 3 searches the aggregation MLP and its SE shortcut. There is no behavior
# sequence, so Step 1 has nothing to search. Embedding width 10 as in the BARS Frappe_x1 runs.
model ameir_ctr {
  input fields: categorical
  emb = embed(fields, dim=10)
  # Stage 2: M = 10 Hadamard interactions, 3 evolution cycles of 20 survivors.
  interactions cross(emb) {
    cycles 3
    survivors 20
    keep 10
  }
  # Stage 3: widths from {0.1, ..., 1.0} of the input width, non-increasing; the SE shortcut over
  # the embeddings and the interactions.
  mlp aggregate(concat(flatten(emb), flatten(cross))) {
    layers 3
    width { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 }
    monotone
    act { relu, swish, identity, dice }
    shortcut se(emb, cross, expansion=1.0)
  }
  head ctr(aggregate)
}

# While the interactions are searched the aggregation is the pre-defined MLP [200, 80] (AMEIR-B's
# MLP); the derived model starts from the one-shot weights and is fine-tuned.
search oneshot_random {
  batch 1024
  children 500
  top 5
  valid_subset 10000
  finetune inherit
  stage cross {
    epochs 1
    fixed_mlp [200, 80]
  }
  stage aggregate {
    epochs 2
  }
}

train {
  optimizer adam(lr=0.001)
  batch 1024
  epochs 30
  monitor auc
  patience 2
  embedding_l2 0.05
}
