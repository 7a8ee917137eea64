# DCN-V2 (Ruoxi Wang, Rakesh Shivanna, Derek Cheng, Sagar Jain, Dong Lin, Lichan Hong, Ed Chi,
# WWW 2021), parallel structure: a cross network x_{l+1} = x_0 * (W_l x_l + b_l) + x_l with
# full-rank W_l beside a DNN over the flattened embeddings; [cross; deep] -> one logit.
model dcnv2 {
  input fields: categorical
  emb = embed(fields, dim=10)
  flat = flatten(emb)
  # BARS DCNv2_frappe_x1 (expid DCNv2_frappe_x1_007_c207b717): 4 full-rank cross layers;
  # DNN 400-400-400, ReLU, batch norm, dropout 0.4.
  cross = crossnet_v2(flat, layers=4)
  mlp deep(flat) {
    layers 3
    width 400
    act relu
    dropout 0.4
    batch_norm
  }
  head ctr(concat(cross, deep))
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
