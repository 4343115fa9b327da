-- uapi-validator in Neovim 0.7 to 0.9, as Debian 12 ships 0.7.2 (0.7 has neither
-- vim.lsp.start nor vim.fs.root): a client per buffer, rooted at the .git above the file.
vim.cmd([[autocmd BufRead,BufNewFile *.uapi setfiletype uapi]])
vim.api.nvim_create_autocmd("FileType", {
  pattern = "uapi",
  callback = function(args)
    local git = vim.fn.finddir(".git", vim.fn.expand("%:p:h") .. ";")
    local client = vim.lsp.start_client({
      name = "uapi-validator",
      cmd = { "uapi-validator", "lsp" },
      root_dir = git ~= "" and vim.fn.fnamemodify(git, ":p:h:h") or vim.fn.getcwd(),
    })
    if client then vim.lsp.buf_attach_client(args.buf, client) end
  end,
})
