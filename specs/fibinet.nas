# FiBiNET (Tongwen Huang, Zhiqi Zhang, Junlin Zhang, RecSys 2019). A SENET layer re-weights the
# field embeddings; bilinear interactions of both the original and the re-weighted embeddings
# are concatenated and fed to a DNN, added to a linear term.
model fibinet {
  input fields: categorical
  emb = embed(fields, dim=10)
  linear = lr(fields)
  # BARS FiBiNET_frappe_x1: reduction ratio 2, bilinear type field_all.
  weighted = senet(emb, reduction=2)
  p = bilinear(emb, type=field_all)
  q = bilinear(weighted, type=field_all)
  # DNN 400-400-400, ReLU, batch norm, dropout 0.3.
  mlp dnn(concat(flatten(p), flatten(q))) {
    layers 3
    width 400
    act relu
    dropout 0.3
    batch_norm
  }
  head ctr(linear, dnn)
}

# BARS FiBiNET_frappe_x1 settings: Adam 1e-3, batch 4096, embedding L2 0.05, patience 2, AUC.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 2
  lr_decay 0.1
  embedding_l2 0.05
}
