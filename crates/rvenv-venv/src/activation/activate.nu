# Activates the virtual environment at __VENV_COMMENT__ (written by rvenv).
# Use it with `overlay use __VENV_COMMENT__/bin/activate.nu`; `deactivate` (or `overlay hide activate`)
# undoes it: nushell restores everything an overlay changed when the overlay is hidden.

export-env {
    let venv = __VENV_NU__
    let bin = ($venv | path join 'bin')
    let path_name = if ('PATH' in $env) { 'PATH' } else { 'Path' }
    let old_path = ($env | get $path_name)
    let old_path = if (($old_path | describe) == 'string') {
        $old_path | split row (char esep)
    } else {
        $old_path
    }
    let prompt = __PROMPT_NU__
    let old_prompt = if ('PROMPT_COMMAND' in $env) { $env.PROMPT_COMMAND } else { '' }
    let show_prompt = not ('VIRTUAL_ENV_DISABLE_PROMPT' in $env)

    load-env { VIRTUAL_ENV: $venv, VIRTUAL_ENV_PROMPT: $prompt }
    load-env ({} | insert $path_name ($old_path | prepend $bin))
    hide-env -i PYTHONHOME

    if $show_prompt {
        $env.PROMPT_COMMAND = {||
            let original = if (($old_prompt | describe) == 'closure') { do $old_prompt } else { $old_prompt }
            ['(' $prompt ') ' $original] | str join
        }
    }
}

export alias deactivate = overlay hide activate
