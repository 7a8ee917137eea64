# DeepFM (Huifeng Guo, Ruiming Tang, Yunming Ye, Zhenguo Li, Xiuqiang He, IJCAI 2017). FM and a
# DNN share one embedding; the logit is linear + FM second-order term + DNN output.
model deepfm {
  input fields: categorical
  emb = embed(fields, dim=10)
  linear = lr(fields)
  pairwise = fm_logit(emb)
  # BARS Frappe_x1: MLP 400-400-400, ReLU, batch norm, dropout 0.2.
  mlp dnn(flatten(emb)) {
    layers 3
    width 400
    act relu
    dropout 0.2
    batch_norm
  }
  # The head projects the DNN's vector to one logit and sums the three logits.
  head ctr(linear, pairwise, dnn)
}

# BARS' DeepFM config (expid DeepFM_frappe_x1_001_4ae3a56e): Adam 1e-3, batch 4096, embedding L2
# 0.05, gradient clipping at norm 10, lr x0.1 on a plateau, patience 2, monitor AUC.
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
