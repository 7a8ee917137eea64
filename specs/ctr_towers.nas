# Multi-embedding towers (nasc's own space, after FinalMLP, Mao et al. AAAI 2023, and the
# multi-embedding design of Guo et al., "On the Embedding Collapse When Scaling up Recommendation
# Models", ICML 2024): two towers, each with its own embedding table (dim 10, as BARS fixes for
# every model), read the same fields; each tower is a FinalMLP-style pair of gated MLP streams
# fused into a logit by a multi-head bilinear layer, and the head sums the two towers' logits.
# The search chooses, for each tower on its own, each stream's gate context (a learned vector,
# any data; or the embedding of the first or the second field, user and item on Frappe_x1), each
# stream's width and the fusion's heads. Two FinalMLP towers (Frappe_x1's configuration each)
# are one point; towers of different shapes are the rest.
model ctr_towers {
  input fields: categorical
  # Tower 1.
  opset gate1a = {
    feature_gating(hidden=[400]),
    feature_gating(context=[0], hidden=[400]),
    feature_gating(context=[1], hidden=[400]),
  }
  opset gate1b = {
    feature_gating(hidden=[400]),
    feature_gating(context=[0], hidden=[400]),
    feature_gating(context=[1], hidden=[400]),
  }
  opset fuse1 = { fusion(heads=1), fusion(heads=5), fusion(heads=10) }
  emb1 = embed(fields, dim=10)
  view1a = gate1a(emb1, fields)
  view1b = gate1b(emb1, fields)
  mlp stream1a(view1a) {
    layers 1
    width { 100, 200, 400, 800 }
    act relu
    dropout 0.4
    batch_norm
  }
  mlp stream1b(view1b) {
    layers 1
    width { 100, 200, 400, 800 }
    act relu
    dropout 0.4
    batch_norm
  }
  tower1 = fuse1(stream1a, stream1b)
  # Tower 2.
  opset gate2a = {
    feature_gating(hidden=[400]),
    feature_gating(context=[0], hidden=[400]),
    feature_gating(context=[1], hidden=[400]),
  }
  opset gate2b = {
    feature_gating(hidden=[400]),
    feature_gating(context=[0], hidden=[400]),
    feature_gating(context=[1], hidden=[400]),
  }
  opset fuse2 = { fusion(heads=1), fusion(heads=5), fusion(heads=10) }
  emb2 = embed(fields, dim=10)
  view2a = gate2a(emb2, fields)
  view2b = gate2b(emb2, fields)
  mlp stream2a(view2a) {
    layers 1
    width { 100, 200, 400, 800 }
    act relu
    dropout 0.4
    batch_norm
  }
  mlp stream2b(view2b) {
    layers 1
    width { 100, 200, 400, 800 }
    act relu
    dropout 0.4
    batch_norm
  }
  tower2 = fuse2(stream2a, stream2b)
  head ctr(tower1, tower2)
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
