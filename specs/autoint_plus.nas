# AutoInt+ (Weiping Song, Chence Shi, Zhiping Xiao, Zhijian Duan, Yewen Xu, Ming Zhang, Jian Tang,
# CIKM 2019). Stacked multi-head self-attention across fields (interacting layers with residual
# connections) learns high-order interactions; "+" adds a DNN, and the two logits are summed.
#
# Differs from the paper: the language's self_attention keeps the embedding size k = 10 for its
# keys, values and output (the paper uses an attention size d' = 32, BARS 128), and the heads
# must divide k (so 2 heads of size 5 instead of 2 heads of size 16). There is no layer-norm
# option on the interacting layers (BARS sets layer_norm true).
model autoint_plus {
  input fields: categorical
  emb = embed(fields, dim=10)
  # Three interacting layers with two heads each (the paper's setting).
  attention = self_attention(self_attention(self_attention(emb, heads=2), heads=2), heads=2)
  mlp dnn(flatten(emb)) {
    layers 3
    width 400
    act relu
    dropout 0.1
    batch_norm
  }
  # The head projects the flattened attention output and the DNN output to logits and sums them.
  head ctr(flatten(attention), dnn)
}

# BARS AutoInt+_frappe_x1 settings: Adam 1e-3, batch 4096, embedding L2 0.1, DNN dropout 0.1,
# patience 2, monitor AUC.
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 2
  lr_decay 0.1
  embedding_l2 0.1
}
