# A space of two-stream CTR models (nasc's own, after FinalMLP, Mao et al. AAAI 2023, and
# DCN-V2, Wang et al. WWW 2021): each stream reads the embeddings through a feature gate, may
# cross them explicitly (DCN-V2's cross network) before its MLP tower, and the two streams are
# fused into the logit by a multi-head bilinear layer (which holds a plain linear head on both
# streams as its special case W = 0). FinalMLP's Frappe_x1 configuration is one point of it
# (gates on the user and the item, no cross, towers 400 and 100, 5 heads); DCN-V2's
# cross-beside-an-MLP shape is another family.
model ctr_space {
  input fields: categorical
  emb = embed(fields, dim=10)
  # The gate's context: a learned vector (FinalMLP's default, any data), or the embedding of
  # the first or the second field (user and item on Frappe_x1).
  opset gate = {
    feature_gating(hidden=[400]),
    feature_gating(context=[0], hidden=[400]),
    feature_gating(context=[1], hidden=[400]),
  }
  view1 = gate(emb, fields)
  view2 = gate(emb, fields)
  opset explicit = { identity, crossnet_v2(layers=2), crossnet_v2(layers=4) }
  crossed1 = explicit(view1)
  crossed2 = explicit(view2)
  mlp stream1(crossed1) {
    layers 1
    width { 100, 200, 400, 800 }
    act relu
    dropout 0.4
    batch_norm
  }
  mlp stream2(crossed2) {
    layers 1
    width { 100, 200, 400, 800 }
    act relu
    dropout 0.4
    batch_norm
  }
  opset fuse = { fusion(heads=1), fusion(heads=5), fusion(heads=10) }
  fused = fuse(stream1, stream2)
  head ctr(fused)
}

# Random search: each child trained in full with the train block below and kept by validation
# AUC (no test rows are read before the choice is made).
search random {
  children 6
  epochs 100
  monitor auc
}

# The retraining recipe of the strongest baselines (BARS' FinalMLP / DCN-V2 on Frappe_x1):
# Adam 1e-3, batch 4096, embedding L2 0.05, lr x0.1 on a plateau, patience 2, clipping at 10.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 2
  lr_decay 0.1
  embedding_l2 0.05
  clip_grad 10.0
}
