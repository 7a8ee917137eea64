# FinalNet (Jieming Zhu, Qinglin Jia, Guohao Cai, Quanyu Dai, Jingjie Li, Zhenhua Dong, Ruiming
# Tang, Rui Zhang, "FINAL: Factorized Interaction Layer for CTR Prediction", SIGIR 2023), its
# one-block form (FINAL_1B): the flattened embeddings through a block of factorized interaction
# layers, then a linear logit.
model finalnet {
  input fields: categorical
  emb = embed(fields, dim=10)
  # BARS FINAL_1B_frappe_x1 (expid FINAL_frappe_x1_006_75be0578, test AUC 0.985223): no field
  # gate, block [400, 400], ReLU, batch norm, dropout 0.2, residual concat. (FINAL_2B, 0.985744,
  # averages two blocks' logits and adds two self-distillation losses, which a nasc head does not
  # train: it is not this spec. Its field gate is `concat(emb, field_gate(emb))`.)
  block = final_block(flatten(emb), widths=[400, 400], act=relu, dropout=0.2, batch_norm=true)
  head ctr(block)
}

# BARS' settings: Adam 1e-3, batch 4096, embedding L2 0.1, lr x0.1 on a plateau, patience 2,
# monitor AUC; FuxiCTR clips gradients at norm 10.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 2
  lr_decay 0.1
  embedding_l2 0.1
  clip_grad 10.0
}
