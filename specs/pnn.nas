# IPNN: Product-based Neural Network with inner products (Yanru Qu, Han Cai, Kan Ren, Weinan
# Zhang, Yong Yu, Ying Wen, Jun Wang, ICDM 2016). A product layer (the embeddings themselves
# plus all pairwise inner products) feeds an MLP.
model pnn {
  input fields: categorical
  emb = embed(fields, dim=10)
  products = inner_product(emb)
  # BARS IPNN_frappe_x1: 400-400-400, ReLU, dropout 0.3, no batch norm.
  mlp dnn(concat(flatten(emb), products)) {
    layers 3
    width 400
    act relu
    dropout 0.3
  }
  head ctr(dnn)
}

# BARS IPNN_frappe_x1 settings: Adam 1e-3, batch 4096, embedding L2 0.05, patience 3, AUC.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 3
  lr_decay 0.1
  embedding_l2 0.05
}
