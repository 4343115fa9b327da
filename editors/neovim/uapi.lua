-- uapi-validator in Neovim 0.10 and later: highlighting by file type, the language server
-- started once per project root (put this in init.lua, or source it from there).
vim.filetype.add({ extension = { uapi = "uapi" } })
vim.api.nvim_create_autocmd("FileType", {
  pattern = "uapi",
  callback = function(args)
    vim.lsp.start({
      name = "uapi-validator",
      cmd = { "uapi-validator", "lsp" },
      root_dir = vim.fs.root(args.buf, { ".git", "pyproject.toml", "uapi-validator.toml" }),
    })
  end,
})
