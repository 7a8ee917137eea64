# DCN: Deep & Cross Network (Ruoxi Wang, Bin Fu, Gang Fu, Mingliang Wang, ADKDD 2017). A cross
# network x_{l+1} = x_0 x_l^T w_l + b_l + x_l (explicit bounded-degree interactions) and a DNN
# run side by side over the flattened embeddings; their outputs are concatenated into the logit.
model dcn {
  input fields: categorical
  emb = embed(fields, dim=10)
  flat = flatten(emb)
  # BARS Frappe_x1: 3 crossing layers; DNN 400-400-400, ReLU, batch norm, dropout 0.2.
  cross = crossnet(flat, layers=3)
  mlp deep(flat) {
    layers 3
    width 400
    act relu
    dropout 0.2
    batch_norm
  }
  # The combination layer: one linear projection of [cross; deep] to the logit.
  head ctr(concat(cross, deep))
}

# BARS DCN_frappe_x1 settings: Adam 1e-3, batch 4096, embedding L2 0.05, patience 2, AUC.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 2
  lr_decay 0.1
  embedding_l2 0.05
}
