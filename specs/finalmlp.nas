# FinalMLP (Kelong Mao, Jieming Zhu, Liangcai Su, Guohao Cai, Yuhao Li, Zhenhua Dong, AAAI 2023):
# two MLP streams over one embedding, each behind its own feature gate, fused by a multi-head
# bilinear layer into the logit.
model finalmlp {
  input fields: categorical
  emb = embed(fields, dim=10)
  # BARS FinalMLP_frappe_x1 (expid FinalMLP_frappe_x1_004_e1ab402f): stream 1's gate reads the
  # user field (field 0 of Frappe_x1), stream 2's the item field (field 1); gate MLPs [400].
  # On other data, leave `context` out (a learned context vector, the paper's default) or name
  # that data's field positions.
  view1 = feature_gating(emb, fields, context=[0], hidden=[400])
  view2 = feature_gating(emb, fields, context=[1], hidden=[400])
  # MLP1 [400], MLP2 [100]: ReLU, batch norm, dropout 0.4.
  mlp stream1(view1) {
    layers 1
    width 400
    act relu
    dropout 0.4
    batch_norm
  }
  mlp stream2(view2) {
    layers 1
    width 100
    act relu
    dropout 0.4
    batch_norm
  }
  head ctr(fusion(stream1, stream2, heads=5))
}

# BARS' settings: Adam 1e-3, batch 4096, embedding L2 0.05, lr x0.1 on a plateau, patience 2,
# monitor AUC; FuxiCTR clips gradients at norm 10.
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
